module github.com/chainmark/loadgen

go 1.26
