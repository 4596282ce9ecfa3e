# client.rb ADDR PORT SRC: Socket.tcp with its own connect_timeout (3 s), from SRC
# unless it is a wildcard (then the kernel chooses the source).  Socket.tcp connects
# non-blocking, waits, and asks a second connect(); when that says EALREADY (the
# connect still under way) it raises Errno::EALREADY and closes the socket.
#
# Exit 0 once connected, 1 with the error on stderr.
require 'socket'

TIMEOUT_S = 3

addr, port, src = ARGV[0], Integer(ARGV[1]), ARGV[2]
local = ['0.0.0.0', '::'].include?(src) ? nil : src
begin
  Socket.tcp(addr, port, local, nil, connect_timeout: TIMEOUT_S) do |sock|
    puts "connected #{sock.local_address.inspect_sockaddr} -> #{addr} port #{port}"
  end
rescue SystemCallError, IOError => e
  warn "connect #{addr} port #{port}: #{e.message}"
  exit 1
end
