// The IconBuild module.
