#include "store/writer.hpp"

#include "store/store.hpp"

#include <utility>

namespace onboard::store {

Writer::Writer(Store& store, std::function<void()> on_done)
    : m_store(store), m_on_done(std::move(on_done)), m_thread([this] { serve(); }) {}

Writer::~Writer() {
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return !m_work && !m_running; });
        m_stop = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

void Writer::start(std::function<void(Store&)> work) {
    {
        std::lock_guard lock(m_mutex);
        m_work = std::move(work);
        m_error = nullptr;
    }
    m_busy = true;
    m_changed.notify_all();
}

bool Writer::finished() const {
    std::lock_guard lock(m_mutex);
    return !m_work && !m_running;
}

void Writer::collect() {
    if (!m_busy) {
        return;
    }
    std::exception_ptr error;
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return !m_work && !m_running; });
        error = std::exchange(m_error, nullptr);
    }
    m_busy = false;
    if (error) {
        std::rethrow_exception(error);
    }
}

void Writer::serve() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_changed.wait(lock, [this] { return m_stop || m_work; });
        if (m_stop) {
            return;
        }
        std::function<void(Store&)> work = std::move(m_work);
        m_work = nullptr;
        m_running = true;
        lock.unlock();
        std::exception_ptr error;
        try {
            work(m_store);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        m_running = false;
        m_error = error;
        m_changed.notify_all();
        if (m_on_done) {
            m_on_done();
        }
    }
}

} // namespace onboard::store
