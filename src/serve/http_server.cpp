#include "serve/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace fas::serve {

struct HttpServer::Impl {
  const Service& service;
  HttpOptions opt;
  httplib::Server svr;
  int port = -1;
  std::atomic<bool> started{false}, stopped{false};
  Impl(const Service& s, HttpOptions o) : service(s), opt(std::move(o)) {}
};

namespace {

void reply(const Response& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  if (!r.content_type.empty()) res.set_content(r.body, r.content_type.c_str());
}

}  // namespace

HttpServer::HttpServer(const Service& service, HttpOptions opt) : impl_(std::make_unique<Impl>(service, std::move(opt))) {
  auto& svr = impl_->svr;
  const size_t threads = (size_t)std::max(1, impl_->opt.threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only (a restart may take the port of a socket in TIME_WAIT). httplib's default
  // adds SO_REUSEPORT, which lets a second server share the port and silently take half the
  // requests; here a port in use is an error.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
  });
  svr.set_read_timeout(impl_->opt.timeout_s, 0);
  svr.set_write_timeout(impl_->opt.timeout_s, 0);
  // httplib refuses larger bodies itself (413 before reading them); the multipart envelope gets
  // 64 KiB on top of the image limit.
  svr.set_payload_max_length(service.options().max_body + (64u << 10));
  const Service* s = &service;
  auto handle = [s](const httplib::Request& req, httplib::Response& res) {
    Request r;
    r.method = req.method;
    r.path = req.path;
    r.content_type = req.get_header_value("Content-Type");
    r.authorization = req.get_header_value("Authorization");
    if (req.is_multipart_form_data()) {
      r.multipart = true;
      r.has_image_field = req.has_file("image");
      if (r.has_image_field) r.image_field = req.get_file_value("image").content;
    } else {
      r.body = req.body;
    }
    reply(s->handle(r), res);
  };
  for (const char* p : {"/", "/index.html", "/health", R"(/v1/.*)", R"(/.*)"}) {
    svr.Get(p, handle);
    svr.Post(p, handle);
    svr.Options(p, handle);
    svr.Put(p, handle);
    svr.Delete(p, handle);
  }
  // Errors httplib raises itself (413 payload too large, 400 bad request): the same JSON form.
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    reply(error_response(res.status, res.status == 413 ? "request body exceeds the size limit" : "bad request"), res);
  });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::bind() {
  auto& o = impl_->opt;
  impl_->port = o.port == 0 ? impl_->svr.bind_to_any_port(o.host) : (impl_->svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (impl_->port <= 0) fail("serve: cannot listen on " + o.host + ":" + std::to_string(o.port) + " (in use, or not a local address?)");
}

int HttpServer::port() const { return impl_->port; }
void HttpServer::run() {
  impl_->started = true;
  if (!impl_->stopped) impl_->svr.listen_after_bind();
}

// httplib's stop() does nothing until the accept loop has started, so a stop() that races a
// just-started run() would leave run() blocked for ever: wait (bounded) for the loop first.
void HttpServer::stop() {
  if (impl_->stopped.exchange(true) || !impl_->started) return;
  for (int i = 0; i < 5000 && !impl_->svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->svr.stop();
}

bool HttpServer::running() const { return impl_->svr.is_running(); }

}  // namespace fas::serve
