fn main() -> std::process::ExitCode {
    newsdesk::memory::return_large_blocks_promptly();
    newsdesk::cli::run()
}
