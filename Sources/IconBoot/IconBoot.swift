// The IconBoot module.
