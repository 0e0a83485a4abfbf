// placeholder replaced by the client library
