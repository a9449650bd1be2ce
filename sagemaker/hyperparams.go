package sagemaker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// A SpecError says a setting or an input is invalid, found before
// anything is sent to SageMaker (or, for a training job or runs table that
// names the model, before the transform job is created). Commands report
// it as bad input.
type SpecError struct {
	Field  string // the hyperparameter, setting or input, e.g. "num_layers", "model-from-runs"
	Value  string
	Reason string // what was expected
	Err    error  // the error behind it, if any (e.g. fs.ErrNotExist, ErrNotFound)
}

func (e *SpecError) Unwrap() error { return e.Err }

func (e *SpecError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s=%s: %s", e.Field, e.Value, e.Reason)
}

// hyperparameter describes one hyperparameter of the built-in
// image-classification algorithm and the values it takes.
type hyperparameter struct {
	check func(string) string // "" if valid, else what is expected
}

func positiveInt(v string) string {
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return "want a positive integer"
	}
	return ""
}

func floatIn(lo, hi float64) func(string) string {
	return func(v string) string {
		if f, err := strconv.ParseFloat(v, 64); err != nil || f < lo || f > hi {
			return fmt.Sprintf("want a number in [%g, %g]", lo, hi)
		}
		return ""
	}
}

func oneOf(values ...string) func(string) string {
	return func(v string) string {
		if !slices.Contains(values, v) {
			return "want one of " + strings.Join(values, ", ")
		}
		return ""
	}
}

// imageClassification lists the hyperparameters of the built-in
// image-classification algorithm and their documented ranges.
var imageClassification = map[string]hyperparameter{
	"num_classes":               {check: positiveInt},
	"num_training_samples":      {check: positiveInt},
	"augmentation_type":         {check: oneOf("crop", "crop_color", "crop_color_transform")},
	"beta_1":                    {check: floatIn(0, 1)},
	"beta_2":                    {check: floatIn(0, 1)},
	"checkpoint_frequency":      {check: positiveInt},
	"early_stopping":            {check: oneOf("True", "False", "true", "false")},
	"early_stopping_min_epochs": {check: positiveInt},
	"early_stopping_patience":   {check: positiveInt},
	"early_stopping_tolerance":  {check: floatIn(0, 1)},
	"epochs":                    {check: positiveInt},
	"eps":                       {check: floatIn(0, 1)},
	"gamma":                     {check: floatIn(0, 1)},
	"image_shape":               {check: imageShape},
	"kv_store":                  {check: oneOf("dist_sync", "dist_async")},
	"learning_rate":             {check: floatIn(0, 1)},
	"lr_scheduler_factor":       {check: floatIn(0, 1)},
	"lr_scheduler_step":         {check: epochList},
	"mini_batch_size":           {check: positiveInt},
	"momentum":                  {check: floatIn(0, 1)},
	"multi_label":               {check: oneOf("0", "1")},
	"num_layers":                {check: oneOf("18", "34", "50", "101", "152", "200", "20", "32", "44", "56", "110")},
	"optimizer":                 {check: oneOf("sgd", "adam", "rmsprop", "nag")},
	"precision_dtype":           {check: oneOf("float32", "float16")},
	"resize":                    {check: positiveInt},
	"top_k":                     {check: topK},
	"use_pretrained_model":      {check: oneOf("0", "1")},
	"use_weighted_loss":         {check: oneOf("0", "1")},
	"weight_decay":              {check: floatIn(0, 1)},
}

// pretrainedLayers are the depths for which ImageNet weights exist.
var pretrainedLayers = []string{"18", "34", "50", "101", "152", "200"}

func imageShape(v string) string {
	parts := strings.Split(v, ",")
	if len(parts) != 3 {
		return "want num_channels,height,width, e.g. 3,224,224"
	}
	for _, p := range parts {
		if positiveInt(p) != "" {
			return "want num_channels,height,width, e.g. 3,224,224"
		}
	}
	return ""
}

func epochList(v string) string {
	for _, p := range strings.Split(v, ",") {
		if positiveInt(p) != "" {
			return "want epochs separated by commas, e.g. 10,20"
		}
	}
	return ""
}

func topK(v string) string {
	if n, err := strconv.Atoi(v); err != nil || n < 2 {
		return "want an integer greater than 1"
	}
	return ""
}

// ValidateHyperparameters checks a full set of hyperparameters of the
// built-in image-classification algorithm: every name known, every value in
// its documented range, the required ones present, and the combinations
// the algorithm refuses (transfer learning only from the ImageNet depths;
// checkpoint_frequency at most epochs; weighted loss only with multi_label).
func ValidateHyperparameters(hp map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(hp)) {
		v := hp[name]
		spec, ok := imageClassification[name]
		if !ok {
			return &SpecError{Field: name, Value: v, Reason: "not a hyperparameter of the built-in image-classification algorithm (known: " + strings.Join(slices.Sorted(maps.Keys(imageClassification)), ", ") + ")"}
		}
		if reason := spec.check(v); reason != "" {
			return &SpecError{Field: name, Value: v, Reason: reason}
		}
	}
	for _, name := range []string{"num_classes", "num_training_samples"} {
		if _, ok := hp[name]; !ok {
			return &SpecError{Field: name, Reason: "required (read from the manifest step's summary.json)"}
		}
	}
	if n, _ := strconv.Atoi(hp["num_classes"]); n < 2 {
		return &SpecError{Field: "num_classes", Value: hp["num_classes"], Reason: "want at least 2"}
	}
	if hp["use_pretrained_model"] == "1" {
		if l, ok := hp["num_layers"]; ok && !slices.Contains(pretrainedLayers, l) {
			return &SpecError{Field: "num_layers", Value: l, Reason: "transfer learning (use_pretrained_model=1) needs one of " + strings.Join(pretrainedLayers, ", ")}
		}
		if s, ok := hp["image_shape"]; ok && !strings.HasSuffix(s, ",224,224") {
			return &SpecError{Field: "image_shape", Value: s, Reason: "pretrained models need 224x224 images (e.g. 3,224,224)"}
		}
	}
	if cf, ok := hp["checkpoint_frequency"]; ok {
		c, _ := strconv.Atoi(cf)
		epochs := 30
		if e, ok := hp["epochs"]; ok {
			epochs, _ = strconv.Atoi(e)
		}
		if c > epochs {
			return &SpecError{Field: "checkpoint_frequency", Value: cf, Reason: fmt.Sprintf("want at most epochs (%d)", epochs)}
		}
	}
	if hp["use_weighted_loss"] == "1" && hp["multi_label"] != "1" {
		return &SpecError{Field: "use_weighted_loss", Value: "1", Reason: "only with multi_label=1"}
	}
	return nil
}
