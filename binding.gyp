{
  "targets": [
    {
      "target_name": "kuroko_gpio",
      "sources": ["native/gpio/src/kuroko_gpio.c"],
      "defines": ["NAPI_VERSION=<(napi_build_version)"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "conditions": [["OS != 'linux'", { "type": "none", "sources!": ["native/gpio/src/kuroko_gpio.c"] }]]
    },
    {
      "target_name": "action_after_build",
      "type": "none",
      "dependencies": ["kuroko_gpio"],
      "copies": [{ "files": ["<(PRODUCT_DIR)/kuroko_gpio.node"], "destination": "<(module_path)" }]
    }
  ]
}
