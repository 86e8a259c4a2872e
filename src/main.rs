//! Thin entry point; everything lives in the library.

/// mimalloc instead of glibc's malloc: the pipeline allocates on converter
/// threads and frees on the actor thread, which glibc's arenas handle
/// badly (a quarter of the sink's CPU went to `malloc`/`free` in `perf`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tablestore_sink::cli::main()
}
