// cpp-httplib (Debian libcpp-httplib-dev) around the pure handler of handler.h. Built only when
// httplib is found (CMake FAS_HAVE_HTTPLIB).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "serve/handler.h"

namespace fas::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;       // 0: any free port (see HttpServer::port)
  int threads = 2;       // worker pool size: requests beyond it wait in the accept queue
  int timeout_s = 10;    // socket read and write timeouts (a slow client is dropped)
};

class HttpServer {
 public:
  HttpServer(const Service& service, HttpOptions opt);
  ~HttpServer();
  // Binds (errors: fas::Error naming host:port); port() then gives the bound port.
  void bind();
  int port() const;
  // Serves until stop() (blocking; call from one thread). stop() may be called from any thread,
  // before or while run() starts; a stopped server does not run again.
  void run();
  void stop();
  bool running() const;  // the accept loop is up

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fas::serve
