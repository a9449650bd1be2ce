package convnet

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// A Shape is an image_shape: channels, height and width of the network's
// input.
type Shape struct {
	C, H, W int
}

// ParseShape reads an image_shape, "num_channels,height,width". Channels
// must be 1 (grey) or 3 (RGB).
func ParseShape(s string) (Shape, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Shape{}, fmt.Errorf("image_shape %q: want num_channels,height,width, e.g. 3,32,32", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return Shape{}, fmt.Errorf("image_shape %q: want three positive integers, e.g. 3,32,32", s)
		}
		v[i] = n
	}
	sh := Shape{C: v[0], H: v[1], W: v[2]}
	if sh.C != 1 && sh.C != 3 {
		return Shape{}, fmt.Errorf("image_shape %q: %d channels, want 1 (grey) or 3 (RGB)", s, sh.C)
	}
	if sh.H < 8 || sh.W < 8 {
		return Shape{}, fmt.Errorf("image_shape %q: want height and width of at least 8", s)
	}
	return sh, nil
}

func (s Shape) String() string { return fmt.Sprintf("%d,%d,%d", s.C, s.H, s.W) }

func (s Shape) size() int { return s.C * s.H * s.W }

// Hyperparameters are the built-in image-classification algorithm's
// hyperparameters that local training uses, with the algorithm's defaults.
type Hyperparameters struct {
	NumClasses int // num_classes (required)
	// NumTrainingSamples (num_training_samples, required) must equal the
	// number of photos in the train channel.
	NumTrainingSamples int
	Epochs             int     // epochs; default 30
	LearningRate       float64 // learning_rate; default 0.1
	MiniBatchSize      int     // mini_batch_size; default 32
	ImageShape         Shape   // image_shape; default 3,224,224 (slow here: see Train)
	// NumLayers (num_layers, default 152) sets the depth; see Depth.
	NumLayers int
	// Augmentation (augmentation_type) is "" (none), "crop" (random crop
	// and mirror), "crop_color" (and colour jitter) or
	// "crop_color_transform" (and rotation, shear and aspect change).
	Augmentation string
	Momentum     float64 // momentum; default 0.9 (sgd and nag)
	WeightDecay  float64 // weight_decay; default 0.0001, applied to conv and dense weights
	Optimizer    string  // optimizer: sgd (default), nag, adam or rmsprop
	Beta1        float64 // beta_1 (adam); default 0.9
	Beta2        float64 // beta_2 (adam); default 0.999
	Eps          float64 // eps (adam, rmsprop); default 1e-8
	Gamma        float64 // gamma (rmsprop); default 0.9
	// LRSchedulerStep (lr_scheduler_step) lists the epochs at which the
	// learning rate is multiplied by LRSchedulerFactor
	// (lr_scheduler_factor, default 0.1).
	LRSchedulerStep   []int
	LRSchedulerFactor float64
	// EarlyStopping (early_stopping) stops training when the validation
	// accuracy has not improved by more than EarlyStoppingTolerance
	// (relative) for EarlyStoppingPatience epochs, after at least
	// EarlyStoppingMinEpochs.
	EarlyStopping          bool
	EarlyStoppingMinEpochs int     // default 10
	EarlyStoppingPatience  int     // default 5
	EarlyStoppingTolerance float64 // default 0
	// Resize (resize), when set, scales each photo so that its shorter side
	// is this long (at least the shape's), then crops the centre to the
	// image shape. Otherwise a photo is scaled to the image shape.
	Resize int
	// UsePretrainedModel (use_pretrained_model=1) is accepted with a
	// warning: local training always starts from scratch.
	UsePretrainedModel bool
}

// DefaultHyperparameters are the algorithm's defaults; NumClasses and
// NumTrainingSamples have none.
func DefaultHyperparameters() Hyperparameters {
	return Hyperparameters{
		Epochs:                 30,
		LearningRate:           0.1,
		MiniBatchSize:          32,
		ImageShape:             Shape{3, 224, 224},
		NumLayers:              152,
		Momentum:               0.9,
		WeightDecay:            0.0001,
		Optimizer:              "sgd",
		Beta1:                  0.9,
		Beta2:                  0.999,
		Eps:                    1e-8,
		Gamma:                  0.9,
		LRSchedulerFactor:      0.1,
		EarlyStoppingMinEpochs: 10,
		EarlyStoppingPatience:  5,
	}
}

// A HyperparameterError names a hyperparameter that local training cannot
// use and says why.
type HyperparameterError struct {
	Name, Value string
	Reason      string
}

func (e *HyperparameterError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("hyperparameter %s: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("hyperparameter %s=%s: %s", e.Name, e.Value, e.Reason)
}

// depthOf maps num_layers to conv blocks. Both ResNet families map onto a
// handful of blocks, monotonically, so that a deeper setting is never a
// shallower network; see Depth.
var depthOf = map[int]int{
	18: 4, 20: 4,
	32: 5, 34: 5,
	44: 6, 50: 6,
	56: 7, 101: 7,
	110: 8, 152: 8,
	200: 9,
}

// Depth is the number of conv blocks local training builds for a
// num_layers value:
//
//	num_layers  18, 20   32, 34   44, 50   56, 101   110, 152   200
//	blocks      4        5        6        7         8          9
//
// Four blocks are one per stage; extra blocks go to the fourth, third,
// second and first stage in turn. It returns 0 for a value the algorithm
// does not accept.
func Depth(numLayers int) int { return depthOf[numLayers] }

// ParseHyperparameters reads the hyperparameters of a training job, as
// strings, the way SageMaker passes them. It returns warnings for the
// settings local training accepts but does not follow and that Hyperparameters
// cannot hold (use_pretrained_model=1 is held, and Train warns), and a
// *HyperparameterError for a missing, unknown or invalid one, or one local
// training cannot honour (multi_label=1).
func ParseHyperparameters(hp map[string]string) (Hyperparameters, []string, error) {
	h := DefaultHyperparameters()
	var warnings []string
	bad := func(name, reason string) error {
		return &HyperparameterError{Name: name, Value: hp[name], Reason: reason}
	}
	posInt := func(name string, dst *int) error {
		n, err := strconv.Atoi(hp[name])
		if err != nil || n < 1 {
			return bad(name, "want a positive integer")
		}
		*dst = n
		return nil
	}
	unit := func(name string, dst *float64) error {
		f, err := strconv.ParseFloat(hp[name], 64)
		if err != nil || f < 0 || f > 1 {
			return bad(name, "want a number in [0, 1]")
		}
		*dst = f
		return nil
	}
	for _, name := range []string{"num_classes", "num_training_samples"} {
		if _, ok := hp[name]; !ok {
			return h, nil, &HyperparameterError{Name: name, Reason: "required"}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(hp)) {
		v := hp[name]
		var err error
		switch name {
		case "num_classes":
			if err = posInt(name, &h.NumClasses); err == nil && h.NumClasses < 2 {
				err = bad(name, "want at least 2")
			}
		case "num_training_samples":
			err = posInt(name, &h.NumTrainingSamples)
		case "epochs":
			err = posInt(name, &h.Epochs)
		case "learning_rate":
			err = unit(name, &h.LearningRate)
		case "mini_batch_size":
			err = posInt(name, &h.MiniBatchSize)
		case "image_shape":
			h.ImageShape, err = ParseShape(v)
			if err != nil {
				err = bad(name, strings.TrimPrefix(err.Error(), fmt.Sprintf("image_shape %q: ", v)))
			}
		case "num_layers":
			n, _ := strconv.Atoi(v)
			if Depth(n) == 0 {
				err = bad(name, "want one of 18, 34, 50, 101, 152, 200, 20, 32, 44, 56, 110")
			}
			h.NumLayers = n
		case "augmentation_type":
			if !slices.Contains([]string{"crop", "crop_color", "crop_color_transform"}, v) {
				err = bad(name, "want crop, crop_color or crop_color_transform")
			}
			h.Augmentation = v
		case "momentum":
			err = unit(name, &h.Momentum)
		case "weight_decay":
			err = unit(name, &h.WeightDecay)
		case "optimizer":
			if !slices.Contains([]string{"sgd", "nag", "adam", "rmsprop"}, v) {
				err = bad(name, "want sgd, nag, adam or rmsprop")
			}
			h.Optimizer = v
		case "beta_1":
			err = unit(name, &h.Beta1)
		case "beta_2":
			err = unit(name, &h.Beta2)
		case "eps":
			err = unit(name, &h.Eps)
		case "gamma":
			err = unit(name, &h.Gamma)
		case "lr_scheduler_step":
			for _, p := range strings.Split(v, ",") {
				n, e := strconv.Atoi(strings.TrimSpace(p))
				if e != nil || n < 1 {
					err = bad(name, "want epochs separated by commas, e.g. 10,20")
					break
				}
				h.LRSchedulerStep = append(h.LRSchedulerStep, n)
			}
		case "lr_scheduler_factor":
			err = unit(name, &h.LRSchedulerFactor)
		case "early_stopping":
			switch strings.ToLower(v) {
			case "true":
				h.EarlyStopping = true
			case "false":
			default:
				err = bad(name, "want True or False")
			}
		case "early_stopping_min_epochs":
			err = posInt(name, &h.EarlyStoppingMinEpochs)
		case "early_stopping_patience":
			err = posInt(name, &h.EarlyStoppingPatience)
		case "early_stopping_tolerance":
			err = unit(name, &h.EarlyStoppingTolerance)
		case "resize":
			err = posInt(name, &h.Resize)
		case "use_pretrained_model":
			switch v {
			case "1":
				h.UsePretrainedModel = true // Train warns
			case "0":
			default:
				err = bad(name, "want 0 or 1")
			}
		case "multi_label":
			switch v {
			case "1":
				err = bad(name, "local training is single-label only")
			case "0":
			default:
				err = bad(name, "want 0 or 1")
			}
		case "use_weighted_loss":
			switch v {
			case "1":
				err = bad(name, "only with multi_label=1, which local training does not support")
			case "0":
			default:
				err = bad(name, "want 0 or 1")
			}
		case "precision_dtype":
			switch v {
			case "float32":
			case "float16":
				warnings = append(warnings, "precision_dtype=float16: local training computes in float32")
			default:
				err = bad(name, "want float32 or float16")
			}
		case "checkpoint_frequency":
			if err = posInt(name, new(int)); err == nil {
				warnings = append(warnings, "checkpoint_frequency: local training keeps only the epoch with the best validation accuracy")
			}
		case "top_k":
			if n, e := strconv.Atoi(v); e != nil || n < 2 {
				err = bad(name, "want an integer greater than 1")
			} else {
				warnings = append(warnings, "top_k: local training reports top-1 accuracy only")
			}
		case "kv_store":
			if v != "dist_sync" && v != "dist_async" {
				err = bad(name, "want dist_sync or dist_async")
			} else {
				warnings = append(warnings, "kv_store: local training runs on one machine; ignored")
			}
		default:
			err = bad(name, "not a hyperparameter of the built-in image-classification algorithm")
		}
		if err != nil {
			return h, warnings, err
		}
	}
	return h, warnings, nil
}
