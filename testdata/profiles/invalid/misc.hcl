# Less common mistakes.
variable "1x" { # ERROR: Invalid variable name
}

variable "described" {
  default     = "x"
  description = ["not", "a", "string"] # ERROR: Incorrect attribute value type
}

locals {
  whole = var # ERROR: Invalid reference
}

profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["misc/hello", null] # ERROR: Incorrect attribute value type
  make_conf  = { A = null } # ERROR: Incorrect attribute value type
  ports_file = "does-not-exist.txt" # ERROR: Failed to read ports_file
  tests      = null # null means unset: the default

  port "misc/hello@" { # ERROR: Invalid origin
  }
}
