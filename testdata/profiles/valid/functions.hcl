# The pure functions available in expressions.
locals {
  names   = split(",", "hello,wc2")
  origins = [for n in local.names : format("misc/%s", n)]
  conf    = merge({ A = "1" }, { B = upper("b") }, { C = tostring(max(3, 7, 5)) })
  encoded = base64encode(jsonencode({ k = "v" }))
}

profile "f" {
  ports_dir  = "ports"
  build_base = lower("/VAR/TMP/F")
  ports      = sort(distinct(concat(local.origins, ["misc/hello"])))
  make_conf = merge(local.conf, {
    KEYS    = join(" ", keys(local.conf))
    COUNT   = length(local.origins)
    ENCODED = local.encoded
    DECODED = base64decode(local.encoded)
    TRIM    = trimspace("  x  ")
    REPL    = replace("a-b-c", "-", "_")
    TRY     = try(local.conf.Z, "fallback")
    MIN     = min(4, 2)
    SUB     = substr("dsynth", 0, 2)
  })
}
