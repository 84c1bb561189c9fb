# References to things that do not exist; a variable without a value.
variable "needed" { # ERROR: No value for required variable
  type = string
}

locals {
  a = var.nope # ERROR: Reference to undeclared input variable
  b = local.nope # ERROR: Reference to undeclared local value
  c = path.module # ERROR: Unknown reference
  d = local.a
}

profile "p" {
  ports_dir  = var.needed
  build_base = "${local.d}/x"
  ports      = [var.missing] # ERROR: Reference to undeclared input variable
  make_conf  = { X = nope("y") } # ERROR: Call to unknown function
  records    = file("/etc/passwd") # ERROR: Call to unknown function
}
