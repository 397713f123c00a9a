// The official MongoDB C driver (libmongoc) and libbson, from Debian's libmongoc-dev.
#ifndef DECODE_ASYNC_CLIBMONGOC_SHIM_H
#define DECODE_ASYNC_CLIBMONGOC_SHIM_H
#include <mongoc/mongoc.h>
#include <bson/bson.h>
#endif
