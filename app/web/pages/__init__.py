"""The pages (server-rendered, Chinese, plain forms): one router per context."""
