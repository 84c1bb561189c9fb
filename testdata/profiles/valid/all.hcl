# The whole tree but some ports, default flavors only; sizes and durations in every accepted spelling.
# GOOS: dragonfly
profile "everything" {
  ports_dir      = "/usr/dports"
  build_base     = "/build"
  ports          = ["all", "misc/hello"]
  exclude        = ["www/chromium", "games/*", "lang/python@py39", "games/*"]
  all_flavors    = false
  package_suffix = ".txz"

  port "misc/hello" {
    options_unset = ["NLS"]
  }

  workers {
    count           = 1
    tmpfs_work      = 1048576
    tmpfs_localbase = "1024kb"
    phase_timeout   = "2d"
    idle_timeout    = "90s"
  }
}
