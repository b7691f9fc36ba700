"""The OCI runtime-spec as pyrunc reads it.

- `model`: config.json -> checked, typed model (`load_bundle_config`,
  `parse_config`, `parse_process`), the hot path of create/run.
- `tables`: capability, rlimit and namespace tables and the supported spec
  versions, shared with `features` and the kernel-facing modules.

Nothing is imported here, so `pyrunc.spec.tables` can be used without
loading the parser.
"""
