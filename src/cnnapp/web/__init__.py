"""The web page and HTTP API that put trained runs behind a real server (`cnnapp serve`)."""
