#pragma once
// resolve: host names to endpoints, with getaddrinfo run on the blocking-call pool.

#include <coloop/core/task.hpp>
#include <coloop/net/endpoint.hpp>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace coloop {

/// The category of getaddrinfo failures (EAI_NONAME, EAI_AGAIN, ...); message() is
/// gai_strerror's text, name() is "coloop.resolve".
const std::error_category& resolve_category() noexcept;

/// Resolves `host` and `service` (a port number or a name from /etc/services) to the endpoints
/// getaddrinfo returns, in its order, without duplicates. An IP literal is converted at once;
/// a name is looked up on the default thread pool, so the loop keeps running. Throws
/// std::invalid_argument for a name over 253 bytes, a label over 63, an empty label or an
/// embedded NUL (never a truncated lookup), for a service of digits over 65535 or one starting
/// with a sign or a blank (never a port wrapped modulo 65536), naming the text;
/// std::system_error(resolve_category()) when the
/// lookup fails. Cancellable: the awaiting task resumes at once, the lookup finishes unseen.
task<std::vector<endpoint>> resolve(std::string host, std::string service);
task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port);

}  // namespace coloop
