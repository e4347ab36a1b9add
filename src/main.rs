fn main() -> std::process::ExitCode {
    newsdesk::auth::passwords::return_large_blocks_promptly();
    newsdesk::cli::run()
}
