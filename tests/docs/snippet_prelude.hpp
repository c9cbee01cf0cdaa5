#pragma once
// What every code block of README.md and docs/ may assume (tests/docs/check_snippets.py): the
// umbrella header, chrono literals, and the placeholder functions the examples call. They are
// declared only: the snippets are compiled, not linked.

#include <coloop/coloop.hpp>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

std::string greet(const std::string& name);
std::string read_whole_file(const std::string& path);
int blocking_sum(int a, int b);
void say_hello();
void set_answer(coloop::promise<int>& p);

coloop::task<void> refresh_cache();
coloop::task<std::string> load_user(int id);
coloop::task<std::vector<int>> load_orders(int user);
coloop::task<int> ask_replica(int replica);
coloop::task<std::string> query();
coloop::task<int> compute();
coloop::task<void> worker();
coloop::task<void> fetch_all();
coloop::task<void> handle_job(const std::string& job);
