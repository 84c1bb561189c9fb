# Bad -var and -var-file values.
# ARGS: -var count=many -var nope=1 -var noequals -var-file vars.vars.hcl -var-file missing.vars.hcl
# GLOBAL ERROR: Invalid value for variable
# GLOBAL ERROR: Value for undeclared variable
# GLOBAL ERROR: Invalid -var option
# GLOBAL ERROR: Failed to read variables file
variable "count" {
  type = number
}

variable "list" {
  type = list(string)
}

variable "bad_default" {
  type    = number
  default = "abc" # ERROR: Invalid value for variable
}

variable "ref_default" {
  default = var.count # ERROR: Variables not allowed
}

variable "typo" {
  type = strin # ERROR: Invalid type specification
}

profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = var.list
}
