fn main() -> std::process::ExitCode {
    newsdesk::cli::run()
}
