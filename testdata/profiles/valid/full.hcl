# Every attribute of the language, with variables, locals and env().
# ARGS: -var-file full.vars.hcl -var workers=3 -var extra_ports=["x11/xterm"]
# ENV: DSYNTH_TEST_LANG=en_US.UTF-8

variable "workers" {
  type        = number
  default     = 2
  description = "parallel builders"
}

variable "base" {
  type = string
}

variable "extra_ports" {
  type    = list(string)
  default = []
}

variable "debug" {
  type    = bool
  default = false
}

locals {
  packages = "${local.root}/packages"
  root     = var.base
}

locals {
  lang = env("DSYNTH_TEST_LANG", "C")
  home = env("DSYNTH_TEST_UNSET", "/nonexistent")
}

profile "release" {
  ports_dir      = "ports"
  build_base     = local.root
  packages_dir   = local.packages
  distfiles_dir  = "/var/cache/distfiles"
  options_dir    = "options"
  logs_dir       = "../logs"
  records        = "state/records.db"
  system_dir     = "/"
  package_suffix = ".tzst"
  make_command   = "/usr/bin/bmake"
  make_conf = {
    WITH_DEBUG       = var.debug ? "yes" : "no"
    DEFAULT_VERSIONS = join(" ", ["perl5=5.36", "python=3.11"])
    MAKE_JOBS_UNSAFE = 1
  }
  ports      = concat(["editors/vim", "devel/git@lite", "editors/vim"], var.extra_ports)
  ports_file = "full.ports"
  tests      = true

  port "editors/vim" {
    options_set   = ["PYTHON", "LUA", "PYTHON"]
    options_unset = ["RUBY"]
    make_env      = { CFLAGS = "-O2" }
  }

  port "lang/python@py311" {
    make_env = { PYTHON_VERSION = "3.11" }
  }

  workers {
    count           = var.workers
    max_jobs        = 4
    tmpfs_work      = "8g"
    tmpfs_localbase = "512m"
    phase_timeout   = "4h"
    idle_timeout    = "1h30m"
    nice            = 10
  }

  environment {
    isolation = "chroot"
    network   = "all"
    env       = { LANG = local.lang, HOME = local.home }

    mount "/usr/src" {
      source   = "/usr/src"
      readonly = true
    }

    mount "/var/cache/ccache/" {
      source   = "ccache"
      readonly = false
    }

    mount "/opt/data" {}
  }

  repository {
    publish_after_run = false
    signing_key       = "keys/repo.key"
  }

  executor "temporal" {
    address           = "temporal.example.org:7233"
    namespace         = "ports"
    listen            = "0.0.0.0:8765"
    url               = "https://builder.example.org:8765"
    heartbeat_timeout = "45s"
    tls {
      ca_file          = "tls/ca.crt"
      listen_cert_file = "tls/server.crt"
      listen_key_file  = "tls/server.key"
    }
  }
}
