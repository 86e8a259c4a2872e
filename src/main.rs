//! Thin entry point; everything lives in the library.

/// mimalloc instead of glibc's malloc: the pipeline allocates on converter
/// threads and frees on the actor thread, which glibc's arenas handle
/// badly (a quarter of the sink's CPU went to `malloc`/`free` in `perf`).
/// Built with `no_thp`: mimalloc otherwise asks for transparent huge pages
/// on its arenas (`madvise(MADV_HUGEPAGE)`), and every first touch of one
/// zeroes 2 MiB; `perf` showed that zeroing (`clear_page_erms`) as a fifth
/// of the emulator's CPU and the sink's page faults, and both processes
/// held more memory than they used.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tablestore_sink::cli::main()
}
