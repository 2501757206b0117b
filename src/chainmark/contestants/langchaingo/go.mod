module github.com/chainmark/langchaingo-contestant

go 1.26.8

require github.com/tmc/langchaingo v0.1.14 // indirect
