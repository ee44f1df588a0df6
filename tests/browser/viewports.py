"""Browser context options shared by the fixtures and the tests."""

# A phone as the spec means it (SPEC §8: usable on a 375 px wide screen).
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
