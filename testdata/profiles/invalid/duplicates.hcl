# Duplicate declarations.
variable "v" {
  default = 1
}

variable "v" { # ERROR: Duplicate variable declaration
  default = 2
}

locals {
  a = 1
}

locals {
  a = 2 # ERROR: Duplicate local value
}

profile "p" {
  ports_dir  = "ports"
  build_base = "/b"

  port "misc/hello" {
  }

  port "misc/hello" { # ERROR: Duplicate port block
  }

  workers {
  }

  workers { # ERROR: Duplicate workers block
  }

  environment {
    mount "/usr/src" {
    }
    mount "/usr/src/" { # ERROR: Duplicate mount block
    }
  }

  environment { # ERROR: Duplicate environment block
  }
}

profile "p" { # ERROR: Duplicate profile block
  ports_dir  = "ports"
  build_base = "/b"
}
