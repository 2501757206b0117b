module github.com/chainmark/server

go 1.26
