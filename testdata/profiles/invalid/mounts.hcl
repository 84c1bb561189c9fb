# Mount targets must be absolute and not the slot's own mount points.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello"]

  environment {
    mount "usr/src" { # ERROR: Invalid mount target
    }
    mount "/xports" { # ERROR: Invalid mount target
    }
    mount "/construction/x" { # ERROR: Invalid mount target
    }
    mount "/" { # ERROR: Invalid mount target
    }
    mount "/usr/local" { # ERROR: Invalid mount target
    }
    mount "/usr/src" {
      source = "" # ERROR: Invalid path
    }
  }
}
