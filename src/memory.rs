//! The process's own memory: how the allocator is set, and when the memory
//! it holds freed goes back to the system.
//!
//! glibc's malloc keeps freed memory for reuse, in one heap per thread that
//! allocated it (up to eight per core), and gives it back only from the top
//! of a heap. Two kinds of work leave much of it behind: argon2, which
//! allocates 19 MiB of aligned blocks for every password check
//! ([`return_large_blocks_promptly`]), and bursts whose memory is freed on
//! threads that then sit idle: a search index rebuild, the opening of
//! thousands of WebSocket connections. [`keep_giving_back`] returns what a
//! burst left once a while later (measured with the live-updates bench:
//! 71 → 55 MB at rest after a start that built the search index).

use std::time::Duration;

/// Allocations at or above this size are mapped for themselves and given
/// back to the system when freed.
pub const MMAP_THRESHOLD: usize = 4 << 20;

/// How often a serving node gives freed memory back.
pub const GIVE_BACK_EVERY: Duration = Duration::from_secs(5);

/// Makes the allocator give large blocks (argon2's) back to the system when
/// they are freed: argon2 allocates its 19 MiB of 64-byte-aligned blocks
/// anew for every check, and once glibc has raised its mmap threshold past
/// that size the aligned requests land in the thread's heap, where the
/// freed ones are never quite large enough to be reused (RSS grew by 19 MiB
/// per login). Call it first thing in `main`, before any thread starts.
pub fn return_large_blocks_promptly() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let threshold = libc::c_int::try_from(MMAP_THRESHOLD).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes a malloc tuning parameter; it is
        // called before other threads exist and takes no pointers.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, threshold) };
        if set != 1 {
            eprintln!("newsdesk: could not set the allocator's mmap threshold");
        }
    }
}

/// Gives the whole pages that are free in every heap back to the system
/// now. It walks the free lists of each heap under that heap's lock: a
/// millisecond or two for a few hundred megabytes.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the heap to the
    // system; it takes no pointers and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Gives freed memory back every `every`, on a thread of its own, for as
/// long as the process runs: what a node serves at rest is then what it
/// holds, whatever burst came before.
pub fn keep_giving_back(every: Duration) {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let started = std::thread::Builder::new()
        .name("give-back-memory".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            let started = std::time::Instant::now();
            give_back_freed();
            tracing::trace!(took = ?started.elapsed(), "freed memory given back");
        });
    if let Err(error) = started {
        tracing::warn!(%error, "freed memory will not be given back: no thread");
    }
}
