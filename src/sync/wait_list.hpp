#pragma once
// The wait_list moved to <coloop/detail/wait_list.hpp> (the sync layer's templates embed it);
// this name stays for net's streams and server.

#include <coloop/detail/wait_list.hpp>
