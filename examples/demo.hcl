# The dsynth demo profile: build the example ports tree in examples/ports.
#
#   dsynth validate examples/demo.hcl
#   dsynth validate -var build_base=/tmp/demo -json examples/demo.hcl
#
# A profile file holds variables, locals and one or more profile blocks.

# Variables are set with -var NAME=VALUE or -var-file FILE.hcl; a variable
# without a default must be given a value.
variable "build_base" {
  type        = string
  default     = "/var/tmp/dsynth-demo"
  description = "where dsynth keeps slots, packages, logs and records"
}

profile "demo" {
  # Required. Relative paths resolve against this file's folder.
  ports_dir = "ports"
  # Required. packages_dir, distfiles_dir, options_dir, logs_dir and
  # records default to folders below it.
  build_base = var.build_base

  # What to build: origins (category/port or category/port@flavor). Their
  # dependencies are built first. meta/demo-all pulls in every demo port.
  ports = ["meta/demo-all"]

  # Per-port settings; a port block also adds its port to the targets.
  port "misc/fortune-lite" {
    options_set = ["LONG"]
  }

  # The builder pool: two slots building in parallel, one make job each.
  workers {
    count    = 2
    max_jobs = 1
  }

  # What the builders see: a chroot with no network at all (the demo tree
  # has no distfiles to fetch).
  environment {
    isolation = "chroot"
    network   = "none"
  }
}
