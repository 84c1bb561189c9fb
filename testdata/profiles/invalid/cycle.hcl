# Locals that depend on themselves.
locals {
  a    = "${local.b}/x" # ERROR: Cycle in local values
  b    = local.c # ERROR: Cycle in local values
  c    = local.a # ERROR: Cycle in local values
  self = local.self # ERROR: Cycle in local values
  ok   = "/b"
  uses = local.a
}

profile "p" {
  ports_dir  = local.uses
  build_base = local.ok
  ports      = ["misc/hello"]
}
