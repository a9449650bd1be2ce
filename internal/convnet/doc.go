// Package convnet trains and runs a small convolutional image classifier in
// pure Go, on every core: the machine-learning core of the local SageMaker
// backend (sagemaker/local), standing in for the built-in
// image-classification algorithm.
//
// # Training
//
// ParseHyperparameters reads a training job's hyperparameters as SageMaker
// passes them (strings) and Train fits the network to a Dataset of
// photos scaled to image_shape, by mini-batch SGD with momentum and weight
// decay (or nag, adam, rmsprop), reporting the train and validation
// accuracy of every epoch through TrainOptions.Log in the MXNet lines the
// built-in algorithm writes:
//
//	Epoch[3] Train-accuracy=0.912000
//	Epoch[3] Time cost=0.731
//	Epoch[3] Validation-accuracy=0.905000
//
// The model keeps the epoch with the best validation accuracy, as the
// built-in algorithm does without checkpoint_frequency; Result holds its
// train:accuracy and validation:accuracy.
//
// The network has four stages of 3×3 convolutions with batch norm and ReLU
// (16, 32, 64 and 64 channels by default), max pooling between stages,
// global average pooling and a dense softmax layer. num_layers sets the
// number of conv blocks (Depth): 4 for 18 and 20 layers, up to 9 for 200.
// Its cost grows with the image's area: at 3,32,32 and num_layers=18 a
// forward pass is 6.8 MFLOP and the two cores of the development machine
// train a few thousand photos an epoch in under a second; the built-in
// default 3,224,224 is honoured but costs 49 times as much, and draws a
// warning.
//
// A mini-batch is cut into shards of 8 photos, processed on
// TrainOptions.Workers goroutines; batch norm uses each shard's statistics
// and the shards' gradients are summed in shard order. Training is
// therefore bit-exact for a seed whatever GOMAXPROCS and Workers, with
// the kernels or with gonum (see below).
//
// # Matrix products
//
// Convolutions are im2col matrix products. On amd64 they run on
// hand-written micro-kernels, AVX-512 (8×32) or AVX2+FMA (6×16), 3 to 11
// times faster than gonum's pure-Go Sgemm on the network's shapes; on other
// CPUs, or built with -tags purego, on gonum's Sgemm (gemm.go has the
// figures). The two kernels give the same bits; gonum's path rounds
// differently (no fused multiply-add), so results are bit-exact only on
// the same kind of path.
//
// # Photos
//
// Decode reads JPEG and PNG only, tells the format from the first bytes,
// and reads the header with DecodeConfig first: a photo declaring more than
// DecodeOptions.MaxPixels pixels is refused with a *TooLargeError before a
// byte of it is decoded (a decompression bomb). Dataset scales photos to
// the image shape with golang.org/x/image/draw (bilinear), as Predict does.
//
// # Model artifact
//
// Model.Save writes model.tar.gz: model.json (format version, architecture,
// image_shape, num_classes, num_layers, hyperparameters, metrics, epochs,
// and the name, shape and offset of every tensor) and model.params (the
// tensors as little-endian float32, with their sha256 in model.json). Load
// reads it back; predictions are bit-identical. Model.Predict returns class
// probabilities (a softmax, summing to 1), PredictBatch many on every core;
// a photo's probabilities do not depend on the rest of its batch.
//
// # Errors
//
// A hyperparameter that is missing, unknown, out of range or not usable
// locally (multi_label=1), and a num_training_samples that differs from the
// train channel's photo count, are a *HyperparameterError naming it. Decode
// errors wrap ErrFormat or are a *TooLargeError; Load's wrap ErrModel.
package convnet
