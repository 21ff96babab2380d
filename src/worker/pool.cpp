#include "worker/pool_impl.hpp"

namespace onboard::worker {

Pool::Pool(store::Store& store, const workflow::Workflow& workflow, PoolOptions options, core::Json run_inputs,
           std::shared_ptr<core::Secrets> secrets)
    : m_impl(std::make_unique<Impl>(store, workflow, std::move(options), std::move(run_inputs), std::move(secrets))) {}

Pool::~Pool() = default;

RunTotals Pool::run(const std::atomic<int>& interrupts, const ProgressCallback& progress) {
    return m_impl->run(interrupts, progress);
}

} // namespace onboard::worker

