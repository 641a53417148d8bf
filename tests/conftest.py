from hypothesis import settings

pytest_plugins = ["pytester"]

# Hypothesis's per-example deadline is a timing assertion: on a shared, loaded machine it fails
# tests whose behaviour is right (a frame round trip failed so under two concurrent runs). Speed
# belongs in benchmarks/, never in the tests.
settings.register_profile("tagsim", deadline=None)
settings.load_profile("tagsim")
