# A fuller example: several profiles sharing variables and locals, env(),
# per-port options, a ports_file, resource limits and extra mounts.
#
#   dsynth validate -profile release examples/release.hcl
#   dsynth validate -profile release -var workers=4 examples/release.hcl
#   dsynth validate -profile test examples/release.hcl

variable "workers" {
  type        = number
  default     = 2
  description = "parallel builders"
}

variable "base" {
  type        = string
  default     = "/var/tmp/dsynth"
  description = "root of every build base"
}

variable "flavor" {
  type    = string
  default = "color"
}

locals {
  # env() reads the host environment; what a profile read is recorded
  # (validate -json shows it as env_read) so a plan can pin it.
  lang = env("DSYNTH_LANG", "C.UTF-8")

  common_ports = [
    "misc/hello",
    "textproc/wc2@${var.flavor}",
  ]

  make_conf = {
    WITH_DEBUG       = "no"
    DEFAULT_VERSIONS = join(" ", ["perl5=5.36", "python=3.11"])
  }
}

profile "release" {
  ports_dir      = "ports"
  build_base     = "${var.base}/release"
  packages_dir   = "${var.base}/packages/release"
  distfiles_dir  = "${var.base}/distfiles" # shared by every profile
  logs_dir       = "${var.base}/logs/release"
  package_suffix = ".tzst"
  make_conf      = local.make_conf
  ports          = concat(local.common_ports, ["meta/demo-all"])
  ports_file     = "release.ports"
  # Never built, whatever the targets say (an origin, origin@flavor or
  # category/*); a port needing one is skipped.
  exclude = ["games/*"]

  port "misc/fortune-lite" {
    options_set = ["LONG"]
    make_env    = { CFLAGS = "-O2 -pipe" }
  }

  workers {
    count           = var.workers
    max_jobs        = 2
    tmpfs_work      = "2g"
    tmpfs_localbase = "1g"
    phase_timeout   = "2h"
    idle_timeout    = "20m"
  }

  environment {
    network = "fetch" # only the fetch phases reach the network
    env     = { LANG = local.lang }

    mount "/usr/src" {
      readonly = true # source defaults to the target path
    }

    mount "/var/cache/ccache" {
      source   = "${var.base}/ccache"
      readonly = false
    }
  }
}

profile "test" {
  ports_dir     = "ports"
  build_base    = "${var.base}/test"
  distfiles_dir = "${var.base}/distfiles"
  make_conf     = merge(local.make_conf, { WITH_DEBUG = "yes" })
  ports         = local.common_ports
  tests         = true # add TEST_DEPENDS and run the test phase

  port "misc/fortune-lite" {
    options_unset = ["LONG"]
  }

  workers {
    count         = "auto" # CPUs/2+1
    phase_timeout = "30m"
  }

  environment {
    network = "none"
    env     = { LANG = "C" }
  }
}
