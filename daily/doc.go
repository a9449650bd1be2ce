// Package daily runs one day's inspection: stage → transform → predictions
// → credit → publish, from one config (the YAML file of reviewlens run),
// through the public step functions. Run is the run step:
//
//	cfg, err := daily.ParseConfig(yamlBytes, "daily.yaml", "2026-11-28")
//	...
//	res, err := daily.Run(ctx, store, api, cfg, daily.Options{Day: "2026-11-28"})
//
// where store is the *storage.Storage the config's URIs are read and
// written through and api is a SageMaker client (sagemaker.NewClient) or
// the local backend (sagemaker/local). Run again for the same day, it
// skips what is done and grants nothing twice.
package daily
