package netstack

import (
	sys "golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
)

// translateError returns the errno Linux reports for a netstack error
// (nil for nil). ErrClosedForReceive is end of file; callers that can
// see it handle it before translating.
func translateError(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	switch err.(type) {
	case *tcpip.ErrUnknownProtocol, *tcpip.ErrAlreadyBound, *tcpip.ErrInvalidEndpointState,
		*tcpip.ErrInvalidOptionValue, *tcpip.ErrMalformedHeader, *tcpip.ErrMissingRequiredFields,
		*tcpip.ErrMulticastInputCannotBeOutput, *tcpip.ErrInvalidPortRange:
		return sys.EINVAL
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice, *tcpip.ErrInvalidNICID:
		return sys.ENODEV
	case *tcpip.ErrUnknownProtocolOption:
		return sys.ENOPROTOOPT
	case *tcpip.ErrDuplicateNICID, *tcpip.ErrDuplicateAddress:
		return sys.EEXIST
	case *tcpip.ErrHostUnreachable:
		return sys.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return sys.EHOSTDOWN
	case *tcpip.ErrNoNet:
		return sys.ENONET
	case *tcpip.ErrAlreadyConnecting:
		return sys.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return sys.EISCONN
	case *tcpip.ErrNoPortAvailable:
		return sys.EAGAIN
	case *tcpip.ErrPortInUse:
		return sys.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return sys.EADDRNOTAVAIL
	case *tcpip.ErrClosedForSend, *tcpip.ErrAborted:
		return sys.EPIPE
	case *tcpip.ErrClosedForReceive:
		return nil
	case *tcpip.ErrWouldBlock:
		return sys.EAGAIN
	case *tcpip.ErrConnectionRefused:
		return sys.ECONNREFUSED
	case *tcpip.ErrTimeout:
		return sys.ETIMEDOUT
	case *tcpip.ErrConnectStarted:
		return sys.EINPROGRESS
	case *tcpip.ErrDestinationRequired:
		return sys.EDESTADDRREQ
	case *tcpip.ErrNotSupported:
		return sys.EOPNOTSUPP
	case *tcpip.ErrQueueSizeNotSupported:
		return sys.ENOTTY
	case *tcpip.ErrNotConnected:
		return sys.ENOTCONN
	case *tcpip.ErrConnectionReset:
		return sys.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return sys.ECONNABORTED
	case *tcpip.ErrNoSuchFile:
		return sys.ENOENT
	case *tcpip.ErrBroadcastDisabled:
		return sys.EACCES
	case *tcpip.ErrNotPermitted:
		return sys.EPERM
	case *tcpip.ErrAddressFamilyNotSupported:
		return sys.EAFNOSUPPORT
	case *tcpip.ErrBadBuffer, *tcpip.ErrBadAddress:
		return sys.EFAULT
	case *tcpip.ErrNetworkUnreachable:
		return sys.ENETUNREACH
	case *tcpip.ErrMessageTooLong:
		return sys.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return sys.ENOBUFS
	case *tcpip.ErrEndpointBusy:
		return sys.EBUSY
	}
	return sys.EINVAL
}
