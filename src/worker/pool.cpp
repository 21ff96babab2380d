#include "worker/pool_impl.hpp"

namespace onboard::worker {

Pool::Pool(store::Store& store, const workflow::Workflow& workflow, PoolOptions options, core::Json run_inputs,
           std::shared_ptr<core::Secrets> secrets)
    : m_impl(std::make_unique<Impl>(store, workflow, std::move(options), std::move(run_inputs), std::move(secrets))) {}

Pool::~Pool() = default;

RunTotals Pool::run(const std::atomic<int>& interrupts, const ProgressCallback& progress) {
    try {
        return m_impl->run(interrupts, progress);
    } catch (...) {
        // A run ended by an error is not left 'running' in the runs table; its leased rows are taken
        // over by the next run (their owner is gone). The error itself goes on to cli::run.
        if (m_impl->run_id != 0) {
            try {
                m_impl->writer.collect(); // the store is this thread's again
            } catch (const std::exception&) { // NOLINT(bugprone-empty-catch): the first error is the one to report
            }
            try {
                m_impl->store.finish_run(m_impl->run_id, "aborted");
            } catch (const std::exception&) { // NOLINT(bugprone-empty-catch): the first error is the one to report
            }
        }
        throw;
    }
}

} // namespace onboard::worker

