package convnet

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FormatVersion names the layout of model.tar.gz that Save writes and Load
// reads.
const FormatVersion = "reviewlens-convnet/1"

// Files of model.tar.gz.
const (
	ModelJSON   = "model.json"
	ModelParams = "model.params"
)

// modelFile is model.json.
type modelFile struct {
	Format       string `json:"format"`
	Architecture string `json:"architecture"`
	ImageShape   string `json:"image_shape"`
	Resize       int    `json:"resize,omitempty"`
	NumClasses   int    `json:"num_classes"`
	NumLayers    int    `json:"num_layers"`
	Blocks       int    `json:"conv_blocks"`
	Width        int    `json:"width"`
	// Pixels are fed as (value/255 - mean) / std.
	Normalize struct {
		Mean float64 `json:"mean"`
		Std  float64 `json:"std"`
	} `json:"normalize"`
	Params          paramsInfo         `json:"params"`
	Hyperparameters map[string]string  `json:"hyperparameters"`
	Metrics         map[string]float64 `json:"metrics"`
	Epoch           int                `json:"epoch"`
	Epochs          []epochJSON        `json:"epochs"`
}

type paramsInfo struct {
	File      string       `json:"file"`
	DType     string       `json:"dtype"`
	ByteOrder string       `json:"byte_order"`
	Count     int          `json:"count"`
	SHA256    string       `json:"sha256"`
	Tensors   []tensorInfo `json:"tensors"`
}

type tensorInfo struct {
	Name   string `json:"name"`
	Shape  []int  `json:"shape"`
	Offset int    `json:"offset"` // in values from the start of the file
}

type epochJSON struct {
	Epoch              int     `json:"epoch"`
	TrainAccuracy      float64 `json:"train_accuracy"`
	ValidationAccuracy float64 `json:"validation_accuracy"`
	TrainLoss          float64 `json:"train_loss"`
	LearningRate       float64 `json:"learning_rate"`
	Seconds            float64 `json:"seconds"`
}

// tensors lists every tensor of model.params in file order: the trainable
// parameters in their layout, then the batch-norm running statistics.
func (n *net) tensors() []tensorInfo {
	var t []tensorInfo
	for i, b := range n.Blocks {
		p := fmt.Sprintf("block%d.", i)
		t = append(t,
			tensorInfo{p + "conv.weight", []int{b.Out, b.In, 3, 3}, n.lay.conv[i]},
			tensorInfo{p + "bn.gamma", []int{b.Out}, n.lay.gamma[i]},
			tensorInfo{p + "bn.beta", []int{b.Out}, n.lay.beta[i]})
	}
	t = append(t,
		tensorInfo{"dense.weight", []int{n.Classes, n.outChannels()}, n.lay.dense},
		tensorInfo{"dense.bias", []int{n.Classes}, n.lay.bias})
	off := n.lay.n
	for i, b := range n.Blocks {
		p := fmt.Sprintf("block%d.", i)
		t = append(t, tensorInfo{p + "bn.running_mean", []int{b.Out}, off}, tensorInfo{p + "bn.running_var", []int{b.Out}, off + b.Out})
		off += 2 * b.Out
	}
	return t
}

func (n *net) values() []float32 {
	v := slices.Clone(n.params)
	for i := range n.Blocks {
		v = append(v, n.runMean[i]...)
		v = append(v, n.runVar[i]...)
	}
	return v
}

// Map returns the hyperparameters under the algorithm's names, as SageMaker
// passes them.
func (h Hyperparameters) Map() map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	m := map[string]string{
		"num_classes":          strconv.Itoa(h.NumClasses),
		"num_training_samples": strconv.Itoa(h.NumTrainingSamples),
		"epochs":               strconv.Itoa(h.Epochs),
		"learning_rate":        f(h.LearningRate),
		"mini_batch_size":      strconv.Itoa(h.MiniBatchSize),
		"image_shape":          h.ImageShape.String(),
		"num_layers":           strconv.Itoa(h.NumLayers),
		"momentum":             f(h.Momentum),
		"weight_decay":         f(h.WeightDecay),
		"optimizer":            h.Optimizer,
		"beta_1":               f(h.Beta1),
		"beta_2":               f(h.Beta2),
		"eps":                  f(h.Eps),
		"gamma":                f(h.Gamma),
		"lr_scheduler_factor":  f(h.LRSchedulerFactor),
		"use_pretrained_model": "0",
	}
	if h.Augmentation != "" {
		m["augmentation_type"] = h.Augmentation
	}
	if len(h.LRSchedulerStep) > 0 {
		var s []string
		for _, e := range h.LRSchedulerStep {
			s = append(s, strconv.Itoa(e))
		}
		m["lr_scheduler_step"] = strings.Join(s, ",")
	}
	if h.EarlyStopping {
		m["early_stopping"] = "True"
		m["early_stopping_min_epochs"] = strconv.Itoa(h.EarlyStoppingMinEpochs)
		m["early_stopping_patience"] = strconv.Itoa(h.EarlyStoppingPatience)
		m["early_stopping_tolerance"] = f(h.EarlyStoppingTolerance)
	}
	if h.Resize > 0 {
		m["resize"] = strconv.Itoa(h.Resize)
	}
	if h.UsePretrainedModel {
		m["use_pretrained_model"] = "1"
	}
	return m
}

// Save writes the model as a gzipped tar holding model.json (the network,
// image shape, classes, hyperparameters, metrics and where each tensor
// lies) and model.params (every tensor as little-endian float32). The same
// model always gives the same bytes.
func (m *Model) Save(w io.Writer) error {
	values := m.net.values()
	raw := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	sum := sha256.Sum256(raw)
	mf := modelFile{
		Format:       FormatVersion,
		Architecture: m.net.String(),
		ImageShape:   m.hp.ImageShape.String(),
		Resize:       m.hp.Resize,
		NumClasses:   m.net.Classes,
		NumLayers:    m.hp.NumLayers,
		Blocks:       len(m.net.Blocks),
		Width:        m.width,
		Params: paramsInfo{File: ModelParams, DType: "float32", ByteOrder: "little", Count: len(values),
			SHA256: hex.EncodeToString(sum[:]), Tensors: m.net.tensors()},
		Hyperparameters: m.hp.Map(),
		Metrics:         map[string]float64{"train:accuracy": m.result.TrainAccuracy, "validation:accuracy": m.result.ValidationAccuracy},
		Epoch:           -1,
	}
	mf.Normalize.Mean, mf.Normalize.Std = pixelMean, pixelStd
	if len(m.result.Epochs) > 0 {
		mf.Epoch = m.result.Epochs[m.result.Best].Epoch
	}
	for _, e := range m.result.Epochs {
		mf.Epochs = append(mf.Epochs, epochJSON{e.Epoch, e.TrainAccuracy, e.ValidationAccuracy, e.TrainLoss, e.LearningRate, e.Duration.Seconds()})
	}
	js, err := json.MarshalIndent(mf, "", "  ")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
	}{{ModelJSON, append(js, '\n')}, {ModelParams, raw}} {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("save model: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// ErrModel is wrapped by Load's errors about the archive's contents.
var ErrModel = errors.New("not a local image-classification model")

// Load reads a model written by Save.
func Load(r io.Reader) (*Model, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("load model: %w: %s", ErrModel, fmt.Sprintf(format, args...))
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, bad("not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	limits := map[string]int64{ModelJSON: 4 << 20, ModelParams: 1 << 30}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bad("read tar: %v", err)
		}
		limit, ok := limits[hdr.Name]
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if hdr.Size > limit {
			return nil, bad("%s is %d bytes, more than %d", hdr.Name, hdr.Size, limit)
		}
		data, err := io.ReadAll(io.LimitReader(tr, limit))
		if err != nil {
			return nil, bad("read %s: %v", hdr.Name, err)
		}
		files[hdr.Name] = data
	}
	for _, name := range slices.Sorted(maps.Keys(limits)) {
		if _, ok := files[name]; !ok {
			return nil, bad("no %s in the archive", name)
		}
	}
	var mf modelFile
	if err := json.Unmarshal(files[ModelJSON], &mf); err != nil {
		return nil, bad("%s: %v", ModelJSON, err)
	}
	if mf.Format != FormatVersion {
		return nil, bad("%s: format %q, want %q", ModelJSON, mf.Format, FormatVersion)
	}
	h, _, err := ParseHyperparameters(mf.Hyperparameters)
	if err != nil {
		return nil, bad("%s: %v", ModelJSON, err)
	}
	if h.ImageShape.String() != mf.ImageShape || h.NumClasses != mf.NumClasses || h.NumLayers != mf.NumLayers || Depth(h.NumLayers) != mf.Blocks || mf.Width < 1 {
		return nil, bad("%s: image_shape, num_classes, num_layers, conv_blocks or width disagree with the hyperparameters", ModelJSON)
	}
	if mf.Normalize.Mean != pixelMean || mf.Normalize.Std != pixelStd {
		return nil, bad("%s: normalisation %g, %g, want %g, %g", ModelJSON, mf.Normalize.Mean, mf.Normalize.Std, pixelMean, pixelStd)
	}
	a := newArch(h.ImageShape.C, h.ImageShape.H, h.ImageShape.W, h.NumClasses, mf.Blocks, mf.Width)
	n := &net{arch: a, lay: a.layout()}
	if n.String() != mf.Architecture {
		return nil, bad("%s: architecture %q, want %q", ModelJSON, mf.Architecture, n.String())
	}
	if !slices.EqualFunc(n.tensors(), mf.Params.Tensors, func(a, b tensorInfo) bool {
		return a.Name == b.Name && a.Offset == b.Offset && slices.Equal(a.Shape, b.Shape)
	}) {
		return nil, bad("%s: the tensor list does not match the architecture", ModelJSON)
	}
	raw := files[ModelParams]
	stats := 0
	for _, b := range a.Blocks {
		stats += 2 * b.Out
	}
	if want := 4 * (n.lay.n + stats); len(raw) != want || mf.Params.Count*4 != want {
		return nil, bad("%s is %d bytes, want %d", ModelParams, len(raw), want)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != mf.Params.SHA256 {
		return nil, bad("%s does not match its sha256 in %s", ModelParams, ModelJSON)
	}
	vals := make([]float32, len(raw)/4)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	n.params = vals[:n.lay.n:n.lay.n]
	off := n.lay.n
	for _, b := range a.Blocks {
		n.runMean = append(n.runMean, vals[off:off+b.Out:off+b.Out])
		n.runVar = append(n.runVar, vals[off+b.Out:off+2*b.Out:off+2*b.Out])
		off += 2 * b.Out
	}
	m := &Model{net: n, hp: h, width: mf.Width}
	m.result.TrainAccuracy = mf.Metrics["train:accuracy"]
	m.result.ValidationAccuracy = mf.Metrics["validation:accuracy"]
	for i, e := range mf.Epochs {
		m.result.Epochs = append(m.result.Epochs, EpochResult{e.Epoch, e.TrainAccuracy, e.ValidationAccuracy, e.TrainLoss, e.LearningRate, time.Duration(math.Round(e.Seconds * float64(time.Second)))})
		if e.Epoch == mf.Epoch {
			m.result.Best = i
		}
	}
	return m, nil
}
