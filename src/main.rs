//! Thin entry point; everything lives in the library.

fn main() -> anyhow::Result<()> {
    tablestore_sink::cli::main()
}
