package metrics

// PluginFailures counts plugin faults (panics, timeouts, uncoded errors)
// by plugin, hook and kind (panic, timeout, error). Plugins are compiled
// in, so the plugin label is a small fixed set.
var PluginFailures = counterVec("condo_plugin_failures_total",
	"Plugin hooks and routes that panicked, ran past their timeout or failed with an uncoded error.", "plugin", "hook", "kind")
