"""cnnapp: small convolutional networks for 64x64 photos, from the course's two models onwards."""
