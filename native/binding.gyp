{
  "targets": [
    {
      "target_name": "synack_tun",
      "sources": ["tun.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["tun.c"] }]
      ]
    }
  ]
}
