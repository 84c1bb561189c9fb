# Unknown blocks and attributes at every level are errors.
workers = 2 # ERROR: Unsupported argument

variable "v" {
  default   = 1
  sensitive = true # ERROR: Unsupported argument
}

plugin "x" { # ERROR: Unsupported block type
}

profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]
  port_dir   = "typo" # ERROR: Unsupported argument

  port "misc/hello" {
    options = ["X"] # ERROR: Unsupported argument
  }

  workers {
    jobs = 2 # ERROR: Unsupported argument
  }

  environment {
    netwrk = "none" # ERROR: Unsupported argument
    mount "/usr/src" {
      ro = true # ERROR: Unsupported argument
    }
    volume "/x" { # ERROR: Unsupported block type
    }
  }

  builder { # ERROR: Unsupported block type
  }
}
