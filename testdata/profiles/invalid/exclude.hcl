# exclude takes origins, origin@flavor and category/* patterns.
profile "p" {
  ports_dir  = "ports"
  build_base = "/b"
  ports      = ["all"]
  exclude = [
    "www/chromium",
    "lang/python@py39",
    "games/*",
    "games", # ERROR: Invalid exclude pattern
    "*/foo", # ERROR: Invalid exclude pattern
    "devel/foo@", # ERROR: Invalid exclude pattern
    "devel/f*", # ERROR: Invalid exclude pattern
  ]
  all_flavors = "no" # ERROR: Incorrect attribute value type
}
