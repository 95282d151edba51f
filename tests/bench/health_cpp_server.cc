// bench_health_cpp: the yardstick for tests/bench/run_bench.sh. A minimal
// server on Debian's gRPC C++ (libgrpc++-dev 1.51) that answers
// grpc.health.v1.Health/Check with SERVING and nothing else (Watch is left
// UNIMPLEMENTED).
//
// It uses the callback API: in the feasibility study
// (reference/grpc-in-c/README.md) the callback server answered 92k-106k
// unary calls/s on 2 cores against 36k-48k for the synchronous API, so this
// is the faster of the two stock choices.
//
// Usage: bench_health_cpp [HOST:]PORT     (default 127.0.0.1:50099)
// Stops on SIGTERM or SIGINT.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <pthread.h>

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthCheckOnly final : public Health::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const HealthCheckRequest* request,
                                  HealthCheckResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    // "" is the whole server; any other name is unknown here.
    if (!request->service().empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
      return reactor;
    }
    response->set_status(HealthCheckResponse::SERVING);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

std::string listen_address(int argc, char** argv) {
  std::string arg = argc > 1 ? argv[1] : "50099";
  if (arg.find(':') == std::string::npos) return "127.0.0.1:" + arg;
  return arg;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals before gRPC starts its threads, so that only
  // sigwait below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  const std::string address = listen_address(argc, argv);
  HealthCheckOnly service;
  int bound_port = 0;
  grpc::ServerBuilder builder;
  // gRPC binds with SO_REUSEPORT by default: a stale server on the same port
  // would then silently take half of the connections. Fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "bench_health_cpp: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::fprintf(stderr, "bench_health_cpp: gRPC C++ %s (callback API) on %s\n",
               grpc::Version().c_str(), address.c_str());

  int signo = 0;
  sigwait(&stop, &signo);
  server->Shutdown(std::chrono::system_clock::now());
  return 0;
}
