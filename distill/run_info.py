"""The file that describes a training run's folder, as `kpdd train` writes it and `kpdd export`,
`kpdd eval --backend hf` and `distill.gguf_adapter` read or write it: {"run_format", "format_version",
"modes", "base_model", "base_model_path", "adapter", "provenance"}."""

RUN_FILE = "kpdd_run.json"
RUN_FORMAT = 1
