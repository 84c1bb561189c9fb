# Several profiles; -profile selects one.
# ARGS: -profile test -var flavor=color
# GOOS: freebsd

variable "flavor" {
  default = "plain"
}

locals {
  common = ["misc/hello", "textproc/wc2@${var.flavor}"]
}

profile "release" {
  ports_dir  = "ports"
  build_base = "/var/tmp/release"
  ports      = local.common
}

profile "test" {
  ports_dir  = "ports"
  build_base = "/var/tmp/test"
  ports      = concat(local.common, ["devel/libgreet"])
  tests      = true

  workers {
    count = "auto"
  }

  environment {
    network = "none"
  }
}
