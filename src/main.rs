// Pages of articles allocate and free many small strings on many threads;
// mimalloc does that with far less work than glibc's malloc (see the
// performance doc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    newsdesk::auth::passwords::return_large_blocks_promptly();
    newsdesk::cli::run()
}
