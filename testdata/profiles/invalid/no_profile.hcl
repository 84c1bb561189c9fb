variable "x" { # ERROR: No profile block
  default = 1
}
